# What the environments share: the bucket their Terraform state is kept in. State holds the
# app's secrets (they are in the server's user data), so the bucket is private, encrypted at
# rest, and versioned so that a bad apply can be rolled back to an earlier state.

resource "ionoscloud_s3_bucket" "state" {
  name   = var.state_bucket_name
  region = var.region
}

resource "ionoscloud_s3_bucket_versioning" "state" {
  bucket = ionoscloud_s3_bucket.state.name
  versioning_configuration {
    status = "Enabled"
  }
}

resource "ionoscloud_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = ionoscloud_s3_bucket.state.name
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "ionoscloud_s3_bucket_public_access_block" "state" {
  bucket                  = ionoscloud_s3_bucket.state.name
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
