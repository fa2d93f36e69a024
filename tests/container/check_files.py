"""The container files, checked without a container runtime (they cannot run here):

- compose.yaml passes docker-compose's own schema validation (`docker-compose config -q`, Debian's
  docker-compose 1.29), and states what the deployment depends on: the four services, port 3001
  (on the host's loopback unless SPUR_ADDRESS says otherwise), no capability for spur-app,
  every secret as a *_FILE variable naming a mounted secret, only real spur-app settings in the
  environment, the start order (db healthy -> migrate done -> app), and a health check behind
  every `service_healthy`; .dockerignore keeps build trees, ./secrets, .env and key files out of
  the build context;
- Containerfile and services/ai/Containerfile have the instructions a runtime reads (a non-root
  USER, EXPOSE, HEALTHCHECK, STOPSIGNAL, an exec-form ENTRYPOINT) and no secret baked in;
- the image's HEALTHCHECK command, run here against a real socket, passes on a 200 from
  /healthz and fails on a 503 and on a closed port.

usage: check_files.py SOURCE_DIR  (exit 77: docker-compose missing, outside CI)
"""

import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading

import yaml

root = sys.argv[1]
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


def settings_of_app():
    """spur-app's settings (app/settings.cpp's table): all names, and those that take *_FILE."""
    text = open(os.path.join(root, "app/settings.cpp")).read()
    names = set(re.findall(r'\.env = "([A-Z0-9_]+)"', text))
    secrets = set(re.findall(r'\.env = "([A-Z0-9_]+)"[^{}]*?\.secret = true', text))
    return names, secrets


def instructions(path):
    """A Containerfile as (INSTRUCTION, arguments) pairs, continuation lines joined."""
    out, pending = [], ""
    for line in open(path).read().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        text = (pending + line).strip()
        pending = ""
        word, _, rest = text.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def env_keys(args):
    """The variable names an ENV instruction sets (KEY=value ... form)."""
    return re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", args)


def check_containerfile(path, port, settings):
    ins = instructions(path)
    final = [i for i, (word, _) in enumerate(ins) if word == "FROM"][-1]
    stage = ins[final:]
    name = os.path.relpath(path, root)
    check(stage[0][1].split()[0] == "debian:bookworm-slim", f"{name}: the runtime stage is not debian:bookworm-slim")
    users = [args for word, args in stage if word == "USER"]
    check(users and users[-1].split(":")[0] not in ("0", "root"), f"{name}: no non-root USER")
    check(any(word == "EXPOSE" and str(port) in args.split() for word, args in stage), f"{name}: no EXPOSE {port}")
    health = [args for word, args in stage if word == "HEALTHCHECK"]
    check(health and "/healthz" in health[-1], f"{name}: no HEALTHCHECK on /healthz")
    check(("STOPSIGNAL", "SIGTERM") in stage, f"{name}: no STOPSIGNAL SIGTERM")
    entry = [args for word, args in stage if word == "ENTRYPOINT"]
    check(entry and entry[-1].startswith("["), f"{name}: the ENTRYPOINT is not exec form (signals would reach a shell)")
    for word, args in ins:
        if word in ("ENV", "ARG"):
            for key in env_keys(args) if word == "ENV" else [args.split("=")[0]]:
                check(not re.search(r"SECRET|PASSWORD|DATABASE_URL", key) or key.endswith("_FILE"),
                      f"{name}: {word} {key} bakes a secret into the image")
    for word, args in stage:  # the runtime's environment: spur-app's settings only
        if word == "ENV" and settings is not None:
            for key in env_keys(args):
                check(key in settings, f"{name}: ENV {key} is no spur-app setting")
    return health[-1] if health else ""


def run_healthcheck(health):
    """The HEALTHCHECK's exec-form command against a server answering `status` on /healthz."""
    command = json.loads(health[health.index("CMD") + 3:].strip())

    def answer(status):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(status if self.path == "/healthz" else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def exit_code(port):
        env = {"PATH": "/usr/bin:/bin", "PORT": str(port)}
        return subprocess.run(command, env=env, timeout=10, stderr=subprocess.DEVNULL).returncode

    for status, passes in ((200, True), (503, False)):
        server = answer(status)
        code = exit_code(server.server_address[1])
        server.shutdown()
        check((code == 0) == passes, f"HEALTHCHECK exits {code} on a {status} from /healthz")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    check(exit_code(closed) != 0, "HEALTHCHECK passes with nothing listening")


def check_environment(services, secrets, settings, secret_settings, source):
    """Secrets reach the services as mounted files only, and app/migrate are given spur-app's
    own settings."""
    for name, service in services.items():
        env = service.get("environment", {})
        mounted = {s if isinstance(s, str) else s["source"] for s in service.get("secrets", [])}
        for key, value in env.items():
            if key.endswith("_FILE"):
                secret = str(value).removeprefix("/run/secrets/")
                check(str(value).startswith("/run/secrets/") and secret in mounted and "file" in secrets.get(secret, {}),
                      f"{source}: {name}: {key}={value} is not a mounted file secret")
            check(not re.search(r"PASSWORD$|SECRET$|^DATABASE_URL$", key), f"{source}: {name}: {key} passes a secret in the environment")
        if name in ("app", "migrate"):
            for key in env:
                base = key.removesuffix("_FILE")
                check(base in (secret_settings if key.endswith("_FILE") else settings), f"{source}: {name}: {key} is no spur-app setting")


def check_smtp_override(compose_tool, settings, secret_settings):
    """compose.smtp.yaml on top of compose.yaml: docker-compose merges them (the merged file is
    what it would run), the SMTP password arrives as a file secret beside the others, and
    STARTTLS is required before it is sent."""
    env = {**os.environ, "SMTP_URL": "smtp://mail.example.com:587", "SMTP_USERNAME": "spur-app"}
    merged = subprocess.run([compose_tool, "-f", "compose.yaml", "-f", "compose.smtp.yaml", "config"], cwd=root,
                            capture_output=True, text=True, env=env)
    check(merged.returncode == 0, f"docker-compose config with compose.smtp.yaml: {merged.stderr.strip()}")
    if merged.returncode != 0:
        return
    compose = yaml.safe_load(merged.stdout)
    services, secrets = compose["services"], compose.get("secrets", {})
    check_environment(services, secrets, settings, secret_settings, "compose.yaml + compose.smtp.yaml")
    app = services["app"]
    mounted = {s if isinstance(s, str) else s["source"] for s in app.get("secrets", [])}
    check({"database_url", "jwt_secret", "smtp_password"} <= mounted, f"app's secrets with the SMTP override: {sorted(mounted)}")
    env = app.get("environment", {})
    check(env.get("SMTP_PASSWORD_FILE") == "/run/secrets/smtp_password" and str(env.get("SMTP_REQUIRE_TLS")) == "1",
          "the SMTP override does not pass the password as a file with STARTTLS required")
    check(env.get("SMTP_URL") == "smtp://mail.example.com:587", "the SMTP override does not take SMTP_URL from the shell")
    # Without SMTP_URL the override refuses to render rather than run without a server.
    unset = {k: v for k, v in os.environ.items() if k not in ("SMTP_URL", "SMTP_USERNAME")}
    refused = subprocess.run([compose_tool, "-f", "compose.yaml", "-f", "compose.smtp.yaml", "config", "-q"], cwd=root,
                             capture_output=True, text=True, env=unset)
    check(refused.returncode != 0 and "SMTP_URL" in refused.stderr, "compose.smtp.yaml renders without SMTP_URL")


def check_compose(settings, secret_settings):
    compose = yaml.safe_load(open(os.path.join(root, "compose.yaml")))
    services, secrets = compose["services"], compose.get("secrets", {})
    check(set(services) == {"db", "migrate", "app", "ai"}, f"services are {sorted(services)}")
    app, migrate, db = services["app"], services["migrate"], services["db"]
    check(any(str(p).endswith(":3001") for p in app.get("ports", [])), "app does not publish container port 3001")
    check(all(str(p).startswith("${SPUR_ADDRESS:-127.0.0.1}:") for p in app.get("ports", [])),
          "app publishes its port beyond the host's loopback by default")
    for name in ("app", "migrate"):
        check(services[name].get("cap_drop") == ["ALL"] and "no-new-privileges:true" in services[name].get("security_opt", []),
              f"{name} keeps capabilities or may gain privileges (cap_drop: [ALL], no-new-privileges)")
    check(not services["ai"].get("ports"), "the AI service is published (it must not be exposed)")
    check(migrate.get("build", {}).get("dockerfile") == "Containerfile" and migrate["build"].get("context") == ".",
          "migrate does not build ./Containerfile")
    check(app.get("image") == migrate.get("image"), "app and migrate run different images")
    check(migrate.get("command") == ["migrate"], "the migrate service does not run `spur-app migrate`")
    check_environment(services, secrets, settings, secret_settings, "compose.yaml")
    check({"DATABASE_URL_FILE", "JWT_SECRET_FILE"} <= set(app.get("environment", {})), "app lacks DATABASE_URL_FILE or JWT_SECRET_FILE")
    check({"MARIADB_PASSWORD_FILE", "MARIADB_ROOT_PASSWORD_FILE"} <= set(db.get("environment", {})), "db's passwords are not *_FILE")
    conditions = {(name, dep): spec.get("condition") for name, s in services.items()
                  for dep, spec in (s.get("depends_on") or {}).items()}
    check(conditions.get(("app", "db")) == "service_healthy", "app does not wait for a healthy db")
    check(conditions.get(("app", "migrate")) == "service_completed_successfully", "app does not wait for the migrations")
    check(conditions.get(("migrate", "db")) == "service_healthy", "migrate does not wait for a healthy db")
    for (name, dep), condition in conditions.items():
        if condition != "service_healthy":
            continue
        build = services[dep].get("build")
        in_image = build and any(word == "HEALTHCHECK" for word, _ in instructions(
            os.path.join(root, build["context"], build.get("dockerfile", "Dockerfile"))))
        check("healthcheck" in services[dep] or in_image, f"{name} waits for {dep} to be healthy, which has no health check")
    # The images' health checks restated for OCI-format builds, which drop HEALTHCHECK: the same
    # commands ($$ is compose's escape of $).
    for name, path in (("app", "Containerfile"), ("ai", "services/ai/Containerfile")):
        health = [args for word, args in instructions(os.path.join(root, path)) if word == "HEALTHCHECK"]
        image_test = json.loads(health[-1][health[-1].index("CMD") + 3:]) if health else None
        test = services[name].get("healthcheck", {}).get("test", [])
        check(test[:1] == ["CMD"] and [t.replace("$$", "$") for t in test[1:]] == image_test,
              f"{name}'s compose health check is not {path}'s HEALTHCHECK")
    grace = str(app.get("stop_grace_period", "10s"))
    check(grace.endswith("s") and int(grace[:-1]) > 10, "app's stop_grace_period does not exceed the 10 s drain")


def main():
    compose_tool = shutil.which("docker-compose")
    if compose_tool is None:
        print("docker-compose missing (scripts/test.sh installs it)")
        sys.exit(1 if os.environ.get("CI") else 77)
    validation = subprocess.run([compose_tool, "-f", "compose.yaml", "config", "-q"], cwd=root,
                                capture_output=True, text=True)
    check(validation.returncode == 0, f"docker-compose config: {validation.stderr.strip()}")
    settings, secret_settings = settings_of_app()
    check({"DATABASE_URL", "JWT_SECRET"} <= secret_settings, f"app/settings.cpp's secrets read as {secret_settings}")
    check_compose(settings, secret_settings)
    check_smtp_override(compose_tool, settings, secret_settings)
    health = check_containerfile(os.path.join(root, "Containerfile"), 3001, settings)
    check_containerfile(os.path.join(root, "services/ai/Containerfile"), 3002, None)
    ignored = open(os.path.join(root, ".dockerignore")).read().split()
    check({".git", "build*", "**/node_modules", "secrets"} <= set(ignored),
          ".dockerignore lets build trees, node_modules or compose's secrets in")
    check({"**/.env", "**/*.pem", "**/*.key"} <= set(ignored),
          ".dockerignore lets .env or key files into the build context (and the build stage's layer)")
    if health:
        run_healthcheck(health)
    for failure in failures:
        print("FAIL:", failure)
    if failures:
        sys.exit(1)
    print("container files ok")


main()
