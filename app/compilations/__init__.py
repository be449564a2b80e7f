"""Compilations (汇编): a period's approved reports bound into one volume, in the background."""
