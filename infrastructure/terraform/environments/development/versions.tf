terraform {
  required_version = ">= 1.5"

  required_providers {
    # Exact: the provider changes infrastructure, so an upgrade is a reviewed change here (and in
    # .terraform.lock.hcl, which `terraform init` writes and which belongs in git).
    ionoscloud = {
      source  = "ionos-cloud/ionoscloud"
      version = "6.7.4"
    }
  }

  # Remote state in an IONOS Object Storage bucket (environments/shared creates it). The
  # settings come from backend.hcl: terraform init -backend-config=backend.hcl (see README.md).
  backend "s3" {}
}

# Credentials come from the environment: IONOS_TOKEN (or IONOS_USERNAME and IONOS_PASSWORD).
provider "ionoscloud" {}
