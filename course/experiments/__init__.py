"""Experiments the chapters run and plot: one module per chapter, called from notebook cells."""
