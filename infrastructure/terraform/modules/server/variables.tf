variable "name" {
  description = "Name of the datacenter, server and the other resources, e.g. busysync-production."
  type        = string
}

variable "location" {
  description = "IONOS region of the datacenter and IP block, e.g. de/fra, de/txl, es/vit."
  type        = string
  default     = "de/fra"
}

variable "cores" {
  description = "CPU cores of the server."
  type        = number
  default     = 2
}

variable "ram_mb" {
  description = "Memory of the server in MB (a multiple of 256)."
  type        = number
  default     = 2048

  validation {
    condition     = var.ram_mb >= 1024 && var.ram_mb % 256 == 0
    error_message = "ram_mb must be at least 1024 and a multiple of 256."
  }
}

variable "disk_gb" {
  description = "Size of the boot disk in GB; it also holds the KV store and the local backups."
  type        = number
  default     = 20
}

variable "disk_type" {
  description = "IONOS disk type of the boot volume: HDD, SSD Standard or SSD Premium."
  type        = string
  default     = "SSD Standard"
}

variable "availability_zone" {
  description = "Availability zone of the server and its volume: AUTO, ZONE_1, ZONE_2."
  type        = string
  default     = "AUTO"
}

variable "image_alias" {
  description = "IONOS image alias of the operating system; cloud-init.yaml is written for Ubuntu 24.04."
  type        = string
  default     = "ubuntu:24.04"
}

variable "ssh_public_key" {
  description = "Public SSH key (one line, OpenSSH format) of the deploy user."
  type        = string

  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( [^\\n\"#:]*)?$", trimspace(var.ssh_public_key)))
    error_message = "ssh_public_key must be one OpenSSH public key line, e.g. \"ssh-ed25519 AAAA... you@laptop\"."
  }
}

variable "ssh_allowed_cidrs" {
  description = "Networks allowed to reach SSH (port 22), e.g. [\"203.0.113.7/32\"]. Nothing else can."
  type        = list(string)

  validation {
    condition     = length(var.ssh_allowed_cidrs) > 0 && alltrue([for c in var.ssh_allowed_cidrs : can(cidrhost(c, 0)) && !strcontains(c, ":")])
    error_message = "ssh_allowed_cidrs must list at least one IPv4 CIDR, e.g. 203.0.113.7/32."
  }
}

variable "deploy_user" {
  description = "Login of the administrating user (SSH key only, sudo)."
  type        = string
  default     = "deploy"
}

variable "domain" {
  description = "DNS name busysync is served at; its A record must point at the ip output."
  type        = string
}

variable "letsencrypt_email" {
  description = "Address Let's Encrypt writes to about the certificate (expiry warnings)."
  type        = string
}

variable "app_image" {
  description = "Published busysync image to run, pinned (ghcr.io/OWNER/busysync:1.0.0). Empty: build from repo_url."
  type        = string
  default     = ""
}

variable "repo_url" {
  description = "Git repository to build busysync from when app_image is empty."
  type        = string
  default     = ""
}

variable "repo_ref" {
  description = "Tag, branch or commit of repo_url to build."
  type        = string
  default     = "main"
}

variable "app_env" {
  description = "Settings written to the app's .env besides PUBLIC_URL and BUSYSYNC_TRUST_PROXY (GOOGLE_CLIENT_ID, BUSYSYNC_ENCRYPTION_KEY ...; see .env.example)."
  type        = map(string)
  default     = {}
  sensitive   = true

  validation {
    condition     = alltrue([for k, v in var.app_env : can(regex("^[A-Z][A-Z0-9_]*$", k)) && !can(regex("[\\n\\r]", v))])
    error_message = "app_env keys must be UPPER_SNAKE_CASE names and values single lines."
  }
}
