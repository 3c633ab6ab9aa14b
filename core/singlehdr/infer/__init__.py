"""singlehdr.infer"""
