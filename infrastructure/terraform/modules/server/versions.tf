terraform {
  # templatefile(), optional attributes and lifecycle preconditions.
  required_version = ">= 1.5"

  required_providers {
    # A range here, the exact version in each environment: a module states what it works with,
    # the root module (and its .terraform.lock.hcl) decides what runs.
    ionoscloud = {
      source  = "ionos-cloud/ionoscloud"
      version = "~> 6.7"
    }
  }
}
