"""singlehdr.weights"""
