"""singlehdr.classical"""
