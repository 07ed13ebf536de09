"""Lambda functions of the data layer, each in its own folder (packaged with ``auditlog``)."""
