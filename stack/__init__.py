"""The Pulumi program's components: one ``ComponentResource`` per AWS concern of the pipeline.

``__main__.py`` builds ``settings.StackSettings`` from the stack configuration and calls
``pipeline.deploy``; nothing else here reads configuration.
"""
