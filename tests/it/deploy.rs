//! The deployment files as shipped: `docker-compose.yml` publishes nothing but the proxy beyond
//! this machine, and `config/nginx.conf` passes every body the hub accepts and finds new hub
//! processes while it runs.

use std::path::Path;

use serde_yaml_ng::Value;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn compose() -> Value {
    serde_yaml_ng::from_str(&read("docker-compose.yml")).expect("docker-compose.yml is YAML")
}

/// Every `ports` entry of a service, with the host address it binds (`None`: all addresses).
fn published(service: &Value) -> Vec<(Option<String>, String)> {
    let Some(ports) = service["ports"].as_sequence() else {
        return Vec::new();
    };
    ports
        .iter()
        .map(|port| match port {
            Value::Mapping(_) => (
                port["host_ip"].as_str().map(str::to_string),
                format!("{:?}", port["published"]),
            ),
            other => {
                let text = match other {
                    Value::Number(n) => n.to_string(),
                    _ => other.as_str().expect("a port is a string").to_string(),
                };
                // host_ip:host:container, host:container or container alone.
                let parts: Vec<&str> = text.rsplitn(3, ':').collect();
                let host_ip = (parts.len() == 3).then(|| parts[2].to_string());
                (host_ip, text)
            }
        })
        .collect()
}

#[test]
fn only_the_proxy_is_published_beyond_this_machine() {
    let compose = compose();
    let services = compose["services"].as_mapping().expect("services");
    assert!(
        services.contains_key("mailpit"),
        "the file under test changed shape"
    );
    for (name, service) in services {
        let name = name.as_str().unwrap_or_default();
        if name == "proxy" {
            continue;
        }
        for (host_ip, port) in published(service) {
            assert!(
                matches!(host_ip.as_deref(), Some("127.0.0.1" | "[::1]" | "::1")),
                "{name} publishes {port} beyond this machine; bind it to 127.0.0.1"
            );
        }
    }
    let proxy = published(&compose["services"]["proxy"]);
    assert!(!proxy.is_empty(), "the proxy is how people reach the hub");
}

#[test]
fn mail_links_point_where_people_reach_the_hub() {
    let compose = compose();
    let environment = &compose["services"]["hub"]["environment"];
    let base = environment["FRONTEND_BASE_URL"]
        .as_str()
        .unwrap_or_default();
    assert!(
        base.starts_with("${FRONTEND_BASE_URL"),
        "FRONTEND_BASE_URL must come from .env, got {base:?}"
    );
    let readme = read("README.md");
    let production = readme
        .split("\n## Production")
        .nth(1)
        .expect("the README has a Production section");
    let production = production.split("\n## ").next().unwrap_or_default();
    for needed in [
        "FRONTEND_BASE_URL",
        "SMTP_URL",
        "tls.conf.example",
        "JWT_SECRET",
    ] {
        assert!(
            production.contains(needed),
            "README's Production section names {needed}"
        );
    }
}

/// nginx directives in order, as (name, arguments), comments dropped; blocks flattened.
fn directives(conf: &str) -> Vec<(String, Vec<String>)> {
    let text: String = conf
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    text.split([';', '{', '}'])
        .filter_map(|statement| {
            let mut words = statement.split_whitespace().map(str::to_string);
            let name = words.next()?;
            Some((name, words.collect()))
        })
        .collect()
}

fn bytes(size: &str) -> u64 {
    let (digits, unit) = size.split_at(size.trim_end_matches(char::is_alphabetic).len());
    let number: u64 = digits.parse().expect("a size");
    number
        * match unit.to_ascii_lowercase().as_str() {
            "" => 1,
            "k" => 1024,
            "m" => 1024 * 1024,
            "g" => 1024 * 1024 * 1024,
            other => panic!("unit {other}"),
        }
}

#[test]
fn the_proxy_passes_every_body_the_hub_accepts() {
    let conf = directives(&read("config/nginx.conf"));
    let limits: Vec<u64> = conf
        .iter()
        .filter(|(name, _)| name == "client_max_body_size")
        .map(|(_, args)| bytes(&args[0]))
        .collect();
    assert!(
        !limits.is_empty(),
        "nginx's default is 1 MiB: name the limit"
    );
    let largest = switchboard::leads::import::MAX_CSV_BYTES as u64;
    for limit in limits {
        assert!(
            limit == 0 || limit >= largest,
            "the proxy refuses bodies over {limit} bytes, the hub accepts {largest}"
        );
    }
    let too_large = conf.iter().any(|(name, args)| {
        name == "error_page" && args.first().map(String::as_str) == Some("413")
    });
    assert!(
        too_large,
        "the proxy's own 413 must be the hub's JSON error, not HTML"
    );
}

#[test]
fn the_proxy_looks_the_hub_up_again_while_it_runs() {
    let conf = directives(&read("config/nginx.conf"));
    assert!(
        conf.iter().any(|(name, _)| name == "resolver"),
        "without a resolver nginx resolves `hub` once, at start"
    );
    let hub_servers: Vec<&Vec<String>> = conf
        .iter()
        .filter(|(name, args)| {
            name == "server" && args.first().is_some_and(|a| a.starts_with("hub"))
        })
        .map(|(_, args)| args)
        .collect();
    let passes_by_variable = conf
        .iter()
        .any(|(name, args)| name == "proxy_pass" && args.iter().any(|a| a.contains('$')));
    assert!(
        passes_by_variable
            || (!hub_servers.is_empty()
                && hub_servers
                    .iter()
                    .all(|args| args.iter().any(|a| a == "resolve"))),
        "every upstream server naming the hub must carry `resolve`: {hub_servers:?}"
    );
    assert!(
        conf.iter().any(|(name, _)| name == "zone") || passes_by_variable,
        "`resolve` needs the upstream in a shared zone"
    );
}

#[test]
fn the_tls_example_serves_the_same_hub_over_https() {
    let conf = directives(&read("config/tls.conf.example"));
    assert!(conf
        .iter()
        .any(|(name, args)| name == "listen" && args.iter().any(|a| a == "ssl")));
    assert!(conf
        .iter()
        .any(|(name, args)| name == "proxy_pass" && args == &["http://hubs".to_string()]));
    let main = directives(&read("config/nginx.conf"));
    assert!(
        main.iter()
            .any(|(name, args)| name == "include" && args.iter().any(|a| a.contains("tls.d"))),
        "nginx.conf includes config/tls.d/"
    );
}
