"""singlehdr.envmap"""
