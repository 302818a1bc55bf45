# One busysync server on IONOS Cloud: its own datacenter and public LAN, a reserved IP, an Ubuntu
# 24.04 server set up by cloud-init, and a NIC firewall that lets in HTTP(S) from anywhere and
# SSH from the given networks only. The app's port stays closed: nginx on the server proxies to
# it over loopback.

locals {
  repo_root = "${path.module}/../../../.."
  infra     = "${path.module}/../../.."

  env_file = merge(
    {
      PUBLIC_URL = "https://${var.domain}"
      # nginx is the one proxy in front and sets X-Forwarded-For.
      BUSYSYNC_TRUST_PROXY = "1"
      BUSYSYNC_IMAGE       = var.app_image
    },
    var.app_env,
  )

  nginx_site_vars = {
    domain = var.domain
  }

  # Every placeholder of cloud-init.yaml, and nothing else (tests/infrastructure checks both).
  cloud_init_vars = {
    hostname               = var.name
    deploy_user            = var.deploy_user
    ssh_public_key         = trimspace(var.ssh_public_key)
    ssh_allowed_cidrs      = join(" ", var.ssh_allowed_cidrs)
    domain                 = var.domain
    letsencrypt_email      = var.letsencrypt_email
    deploy_mode            = var.app_image != "" ? "image" : "repo"
    repo_url               = var.repo_url
    repo_ref               = var.repo_ref
    nginx_site_b64         = base64encode(templatefile("${local.infra}/nginx/busysync.conf", local.nginx_site_vars))
    compose_file_b64       = filebase64("${local.repo_root}/docker-compose.yml")
    env_file_b64           = base64encode(join("", [for k, v in local.env_file : "${k}=${v}\n"]))
    deploy_script_b64      = filebase64("${local.infra}/scripts/deploy.sh")
    backup_script_b64      = filebase64("${local.infra}/scripts/backup.sh")
    certificate_script_b64 = filebase64("${local.infra}/scripts/issue_certificate.sh")
  }
}

data "ionoscloud_image" "os" {
  image_alias = var.image_alias
  type        = "HDD"
  cloud_init  = "V1"
  location    = var.location
}

resource "ionoscloud_datacenter" "this" {
  name        = var.name
  location    = var.location
  description = "busysync (managed by Terraform)"
}

resource "ionoscloud_lan" "public" {
  datacenter_id = ionoscloud_datacenter.this.id
  public        = true
  name          = "${var.name}-public"
}

# A reserved address survives replacing the server, so the DNS record does not have to change.
resource "ionoscloud_ipblock" "this" {
  location = var.location
  size     = 1
  name     = var.name
}

resource "ionoscloud_server" "this" {
  name              = var.name
  datacenter_id     = ionoscloud_datacenter.this.id
  type              = "ENTERPRISE"
  cores             = var.cores
  ram               = var.ram_mb
  availability_zone = var.availability_zone
  image_name        = data.ionoscloud_image.os.id
  # IONOS requires a key or a password for its Linux images; this puts the key on root, whose
  # SSH login cloud-init then disables in favour of the deploy user.
  ssh_keys = [trimspace(var.ssh_public_key)]

  volume {
    name              = "${var.name}-boot"
    size              = var.disk_gb
    disk_type         = var.disk_type
    availability_zone = var.availability_zone
    user_data         = base64encode(templatefile("${local.infra}/cloud-init.yaml", local.cloud_init_vars))
  }

  nic {
    name            = "${var.name}-public"
    lan             = ionoscloud_lan.public.id
    dhcp            = true
    ips             = [ionoscloud_ipblock.this.ips[0]]
    firewall_active = true
    firewall_type   = "INGRESS"

    # With the firewall active, IONOS drops every ingress packet no rule allows: 8000 (the
    # app) and everything else stays closed.
    firewall {
      name             = "http"
      protocol         = "TCP"
      port_range_start = 80
      port_range_end   = 80
      type             = "INGRESS"
    }

    firewall {
      name             = "https"
      protocol         = "TCP"
      port_range_start = 443
      port_range_end   = 443
      type             = "INGRESS"
    }

    dynamic "firewall" {
      for_each = var.ssh_allowed_cidrs
      content {
        name             = "ssh-${firewall.key}"
        protocol         = "TCP"
        source_ip        = firewall.value
        port_range_start = 22
        port_range_end   = 22
        type             = "INGRESS"
      }
    }
  }

  lifecycle {
    # cloud-init runs on the first boot only, and IONOS can only apply user data by creating
    # the volume anew, which would destroy the KV store on it. Later changes are deployed with
    # busysync-deploy on the server; replace the server on purpose (after a backup) to re-run
    # cloud-init.
    ignore_changes = [volume[0].user_data, image_name]

    precondition {
      condition     = var.app_image != "" || var.repo_url != ""
      error_message = "Set app_image (a published image) or repo_url (build from source)."
    }
  }
}
