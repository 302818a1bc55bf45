output "state_bucket" {
  description = "Bucket to name in each environment's backend.hcl."
  value       = ionoscloud_s3_bucket.state.name
}

output "state_endpoint" {
  description = "S3 endpoint of the bucket's region, for backend.hcl."
  value       = "https://s3.${var.region}.ionoscloud.com"
}
