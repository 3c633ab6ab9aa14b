"""singlehdr.io"""
