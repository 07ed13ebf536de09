"""vpc guardrails: the private network (VPC, subnets, routes, security groups, endpoints, flow
logs)."""
