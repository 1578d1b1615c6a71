"""Vedette's CrossGuard policy pack: the rules every deployment of the pipeline must keep.

``rules`` holds the policies (tests call their validate functions directly); ``__main__.py`` is
what ``pulumi preview --policy-pack policies`` runs.
"""
