terraform {
  required_version = ">= 1.5"

  required_providers {
    ionoscloud = {
      source  = "ionos-cloud/ionoscloud"
      version = "6.7.4"
    }
  }

  # Local state on purpose: this configuration creates the bucket every other state lives in.
  # It holds no secret; keep terraform.tfstate somewhere safe (or migrate it into the bucket
  # once it exists, see README.md).
}

# IONOS_TOKEN for the Cloud API; IONOS_S3_ACCESS_KEY and IONOS_S3_SECRET_KEY for Object Storage.
provider "ionoscloud" {
  s3_region = var.region
}
