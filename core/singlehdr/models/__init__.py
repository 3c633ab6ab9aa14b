"""singlehdr.models"""
