variable "location" {
  description = "IONOS region, e.g. de/fra."
  type        = string
  default     = "de/fra"
}

variable "cores" {
  description = "CPU cores of the server."
  type        = number
  default     = 1
}

variable "ram_mb" {
  description = "Memory of the server in MB."
  type        = number
  default     = 1024
}

variable "disk_gb" {
  description = "Boot disk size in GB (holds the KV store and local backups)."
  type        = number
  default     = 10
}

variable "domain" {
  description = "DNS name of this busysync, e.g. busysync.example.com."
  type        = string
}

variable "letsencrypt_email" {
  description = "Contact address for the Let's Encrypt certificate."
  type        = string
}

variable "ssh_public_key" {
  description = "Public SSH key of the deploy user."
  type        = string
}

variable "ssh_allowed_cidrs" {
  description = "Networks allowed to reach SSH, e.g. [\"203.0.113.7/32\"]."
  type        = list(string)
}

variable "app_image" {
  description = "Published image to run, pinned by version; empty builds repo_ref of repo_url on the server."
  type        = string
  default     = ""
}

variable "repo_url" {
  description = "Git repository to build from when app_image is empty."
  type        = string
  default     = ""
}

variable "repo_ref" {
  description = "Tag, branch or commit of repo_url."
  type        = string
  default     = "main"
}

variable "google_client_id" {
  description = "OAuth client id (Google Cloud console, type Web application)."
  type        = string
}

variable "google_client_secret" {
  description = "OAuth client secret."
  type        = string
  sensitive   = true
}

variable "encryption_key" {
  description = "BUSYSYNC_ENCRYPTION_KEY: 32 random bytes in base64 (openssl rand -base64 32)."
  type        = string
  sensitive   = true
}

variable "allowed_emails" {
  description = "BUSYSYNC_ALLOWED_EMAILS: who may sign in (user@example.com, @example.com); empty = anyone."
  type        = string
  default     = ""
}

variable "extra_env" {
  description = "Further settings for the app's .env (see .env.example), e.g. { BUSYSYNC_LOG_LEVEL = \"debug\" }."
  type        = map(string)
  default     = {}
}
