output "ip" {
  description = "Public IP of the server: point the domain's A record here."
  value       = module.server.ip
}

output "url" {
  description = "Address of busysync."
  value       = module.server.url
}

output "ssh" {
  description = "How to log in."
  value       = module.server.ssh
}
