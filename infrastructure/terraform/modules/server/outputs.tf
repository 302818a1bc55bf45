output "ip" {
  description = "Public IPv4 address of the server: the A record of the domain points here."
  value       = ionoscloud_ipblock.this.ips[0]
}

output "url" {
  description = "Address of busysync once DNS and the certificate are in place."
  value       = "https://${var.domain}"
}

output "ssh" {
  description = "How to log in (from a network in ssh_allowed_cidrs)."
  value       = "ssh ${var.deploy_user}@${ionoscloud_ipblock.this.ips[0]}"
}

output "datacenter_id" {
  description = "IONOS datacenter holding the server."
  value       = ionoscloud_datacenter.this.id
}

output "server_id" {
  description = "IONOS id of the server."
  value       = ionoscloud_server.this.id
}
