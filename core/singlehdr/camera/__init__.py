"""The forward camera model: exposure, noise, clipping, CRFs, quantisation, JPEG."""
