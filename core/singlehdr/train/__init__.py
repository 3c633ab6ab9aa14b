"""singlehdr.train"""
