module "server" {
  source = "../../modules/server"

  name              = "busysync-development"
  location          = var.location
  cores             = var.cores
  ram_mb            = var.ram_mb
  disk_gb           = var.disk_gb
  domain            = var.domain
  letsencrypt_email = var.letsencrypt_email
  ssh_public_key    = var.ssh_public_key
  ssh_allowed_cidrs = var.ssh_allowed_cidrs
  app_image         = var.app_image
  repo_url          = var.repo_url
  repo_ref          = var.repo_ref

  # The secrets end up in the server's user data and in the Terraform state: the state bucket
  # is private and encrypted (environments/shared) for that reason.
  app_env = merge(
    {
      GOOGLE_CLIENT_ID        = var.google_client_id
      GOOGLE_CLIENT_SECRET    = var.google_client_secret
      BUSYSYNC_ENCRYPTION_KEY = var.encryption_key
      BUSYSYNC_ALLOWED_EMAILS = var.allowed_emails
    },
    var.extra_env,
  )
}
