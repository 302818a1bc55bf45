import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import {
  base64,
  INFRA,
  loadModule,
  renderTemplate,
  ROOT,
  TERRAFORM,
  unbase64,
} from "../support/infrastructure.ts";

const read = (path: string) => Deno.readTextFile(path);
const server = await loadModule(`${TERRAFORM}modules/server`);

const SSH_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGm0lXbusysynctestkey0123456789abcdefghijkl alex@laptop";
const ENV_FILE = "BUSYSYNC_IMAGE=ghcr.io/example/busysync:1.0.0\nBUSYSYNC_TRUST_PROXY=1\n" +
  "GOOGLE_CLIENT_SECRET=GOCSPX-abc+/=\nPUBLIC_URL=https://busysync.example.com\n";

/** The values modules/server hands templatefile(), with the files it reads read the same way. */
async function cloudInitVars(): Promise<Record<string, string>> {
  const nginx = renderTemplate(await read(`${INFRA}nginx/busysync.conf`), {
    domain: "busysync.example.com",
  });
  return {
    hostname: "busysync-production",
    deploy_user: "deploy",
    ssh_public_key: SSH_KEY,
    ssh_allowed_cidrs: "203.0.113.7/32 198.51.100.0/24",
    domain: "busysync.example.com",
    letsencrypt_email: "ops@example.com",
    deploy_mode: "image",
    repo_url: "",
    repo_ref: "main",
    nginx_site_b64: base64(nginx),
    compose_file_b64: base64(await read(`${ROOT}docker-compose.yml`)),
    env_file_b64: base64(ENV_FILE),
    deploy_script_b64: base64(await read(`${INFRA}scripts/deploy.sh`)),
    backup_script_b64: base64(await read(`${INFRA}scripts/backup.sh`)),
    certificate_script_b64: base64(await read(`${INFRA}scripts/issue_certificate.sh`)),
  };
}

interface WriteFile {
  path: string;
  content: string;
  encoding?: string;
  permissions?: string;
}

Deno.test("cloud-init: the template renders and parses as a cloud-config", async (t) => {
  const vars = await cloudInitVars();
  assert.deepEqual(
    Object.keys(vars).sort(),
    Object.keys(server.locals.cloud_init_vars).sort(),
    "the test renders with the variables Terraform passes",
  );
  const rendered = renderTemplate(await read(`${INFRA}cloud-init.yaml`), vars);
  assert.ok(rendered.startsWith("#cloud-config\n"), "cloud-init needs the #cloud-config marker");
  // cloud-init reads YAML 1.1 (PyYAML), where yes/no/on/off are booleans; parse it the same way.
  const doc = parseYaml(rendered, { version: "1.1" });
  const files = new Map<string, WriteFile>(
    (doc.write_files as WriteFile[]).map((f) => [f.path, f]),
  );
  const content = (path: string) => {
    const f = files.get(path);
    assert.ok(f, `writes ${path}`);
    return f.encoding === "b64" ? unbase64(f.content) : f.content;
  };

  await t.step("installs Docker with compose, nginx, certbot, ufw and unattended upgrades", () => {
    for (
      const p of [
        "docker.io",
        "docker-compose-v2",
        "nginx",
        "certbot",
        "ufw",
        "unattended-upgrades",
      ]
    ) {
      assert.ok(doc.packages.includes(p), `package ${p}`);
    }
    assert.equal(doc.package_update, true);
  });

  await t.step("creates the deploy user with the SSH key and no password", () => {
    const [user] = doc.users;
    assert.equal(user.name, "deploy");
    assert.deepEqual(user.ssh_authorized_keys, [SSH_KEY]);
    assert.equal(user.lock_passwd, true);
    assert.match(user.sudo, /NOPASSWD/);
    assert.equal(doc.ssh_pwauth, false);
    assert.equal(doc.disable_root, true);
    assert.match(content("/etc/ssh/sshd_config.d/60-busysync.conf"), /PasswordAuthentication no/);
    assert.match(content("/etc/ssh/sshd_config.d/60-busysync.conf"), /PermitRootLogin no/);
  });

  await t.step("installs each file byte for byte from its one source", async () => {
    assert.equal(
      content("/opt/busysync/docker-compose.yml"),
      await read(`${ROOT}docker-compose.yml`),
    );
    assert.equal(content("/etc/nginx/sites-available/busysync"), unbase64(vars.nginx_site_b64));
    assert.equal(
      content("/usr/local/sbin/busysync-deploy"),
      await read(`${INFRA}scripts/deploy.sh`),
    );
    assert.equal(
      content("/usr/local/sbin/busysync-backup"),
      await read(`${INFRA}scripts/backup.sh`),
    );
    assert.equal(
      content("/usr/local/sbin/busysync-certificate"),
      await read(`${INFRA}scripts/issue_certificate.sh`),
    );
    for (const script of ["deploy", "backup", "certificate"]) {
      assert.equal(files.get(`/usr/local/sbin/busysync-${script}`)?.permissions, "0755");
    }
  });

  await t.step("the env file keeps secrets intact and is readable by root only", () => {
    assert.equal(content("/opt/busysync/.env"), ENV_FILE);
    assert.equal(files.get("/opt/busysync/.env")?.permissions, "0600");
    assert.match(content("/etc/busysync/deploy.env"), /^BUSYSYNC_DEPLOY_MODE=image$/m);
  });

  await t.step("enables unattended upgrades, certificate renewal and the backup cron", () => {
    assert.match(content("/etc/apt/apt.conf.d/20auto-upgrades"), /Unattended-Upgrade "1"/);
    const cron = content("/etc/cron.d/busysync");
    assert.match(cron, /^\S+ \S+ \* \* \* root \/usr\/local\/sbin\/busysync-backup/m);
    assert.match(cron, /busysync-certificate busysync\.example\.com ops@example\.com/);
    const enable = doc.runcmd.find((c: string[]) => c[0] === "systemctl" && c[1] === "enable");
    assert.ok(enable?.includes("certbot.timer") && enable.includes("unattended-upgrades"));
  });

  await t.step("ufw allows 22 from the allowed networks and 80/443, then is enabled", () => {
    const cmds = doc.runcmd.map((c: string[] | string) => Array.isArray(c) ? c.join(" ") : c);
    const at = (s: string) => cmds.findIndex((c: string) => c.includes(s));
    assert.ok(at("ufw default deny incoming") >= 0);
    assert.ok(at("for cidr in 203.0.113.7/32 198.51.100.0/24; do ufw allow from") >= 0);
    assert.ok(at("ufw allow 80/tcp") >= 0 && at("ufw allow 443/tcp") >= 0);
    assert.ok(at("ufw --force enable") > at("ufw allow 443/tcp"), "rules come before enabling");
    assert.ok(
      !cmds.some((c: string) => /ufw allow (22|8000)\b/.test(c)),
      "no open SSH or app port",
    );
  });

  await t.step("gets the certificate, then starts the app", () => {
    const last = doc.runcmd.slice(-2).map((c: string[]) => c[0]);
    assert.deepEqual(last, [
      "/usr/local/sbin/busysync-certificate",
      "/usr/local/sbin/busysync-deploy",
    ]);
  });
});

Deno.test("cloud-init: the template renderer refuses what Terraform would reject", () => {
  assert.throws(() => renderTemplate("${missing}", {}), /no value for template variable missing/);
  assert.throws(() => renderTemplate("%{ if x }a%{ endif }", { x: "1" }), /directives/);
  assert.equal(renderTemplate("$${literal} ${a}", { a: "b" }), "${literal} b");
});
