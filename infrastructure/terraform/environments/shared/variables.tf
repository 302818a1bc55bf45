variable "state_bucket_name" {
  description = "Name of the Object Storage bucket for Terraform state; globally unique, e.g. busysync-tfstate-<your-org>."
  type        = string
}

variable "region" {
  description = "IONOS Object Storage region of the bucket (contract-owned buckets): eu-central-3, eu-central-4, us-central-1."
  type        = string
  default     = "eu-central-3"
}
