"""singlehdr.preview"""
