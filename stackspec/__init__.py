"""What a stack is, free of Pulumi and boto3.

The validated config model (one module per service under ``stackspec.config``), how a stack file is
read, the physical names, the table's key formats, and one definition per service built from the
config. The Pulumi components and the local setup/validate adapters consume these definitions and
never re-derive them.
"""
