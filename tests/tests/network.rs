//! Network Setting > Basic through the real binary: the HTTP port moves at
//! once and stays moved after a restart; a port in use changes nothing;
//! HTTPS with a generated and with an uploaded certificate, checked by a
//! real TLS client (rustls through reqwest) that trusts only that
//! certificate; HTTP redirects to HTTPS; Secure cookies; IP Permissions on
//! the HTTPS port.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{free_port, Client, Vto, STRONG};

async fn page(c: &Client) -> Value {
    let (status, p) = c.call("network", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    p
}

async fn save(c: &Client, settings: &Value) -> (StatusCode, Value) {
    c.call("save_network", json!({"settings": settings})).await
}

/// Until nothing answers at `url` (the old listener closes after the
/// answer that moved it went out).
async fn wait_closed(url: &str) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    for _ in 0..100 {
        if http.get(format!("{url}/login")).send().await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} still answers");
}

#[tokio::test]
async fn the_http_port_moves_at_once_and_stays_moved() {
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let p = page(&c).await;
    let port: u16 = vto.url.rsplit(':').next().unwrap().parse().unwrap();
    assert_eq!(p["settings"]["listen_address"], "127.0.0.1");
    assert_eq!(p["settings"]["http_port"], port, "the port in use");
    assert_eq!(p["settings"]["https"], false);
    assert!(p["certificate"].is_null());
    let addresses = p["host_addresses"].to_string();
    assert!(addresses.contains("\"127.0.0.1\""), "{addresses}");

    // Refused, and nothing changes: a port in use, an address the host
    // does not have, HTTPS on the HTTP port, port 0.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port();
    let cases: &[(Value, &str, &str)] = &[
        (json!({"http_port": busy_port}), "http-port", "in use"),
        (
            json!({"listen_address": "192.0.2.1"}),
            "listen-address",
            "not an address of this host",
        ),
        (
            json!({"https": true, "https_port": port}),
            "https-port",
            "port of its own",
        ),
        (json!({"http_port": 0}), "http-port", "1 to 65535"),
        (
            json!({"listen_address": "localhost"}),
            "listen-address",
            "IPv4 or IPv6",
        ),
    ];
    for (change, field, text) in cases {
        let mut s = p["settings"].clone();
        for (k, v) in change.as_object().unwrap() {
            s[k] = v.clone();
        }
        let (status, b) = save(&c, &s).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{change}: {b}");
        assert_eq!(b["Invalid"]["field"], *field, "{change}");
        assert!(b.to_string().contains(text), "{change}: {b}");
        assert_eq!(page(&c).await["settings"], p["settings"], "{change}");
    }
    drop(busy);

    let new_port = free_port();
    let mut s = p["settings"].clone();
    s["http_port"] = json!(new_port);
    let (status, moved) = save(&c, &s).await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let new_url = format!("http://127.0.0.1:{new_port}");
    assert_eq!(moved["moved_to"], format!("{new_url}/network/basic"));
    let c2 = c.moved_to(&new_url, &[]);
    assert_eq!(page(&c2).await["settings"]["http_port"], new_port);
    wait_closed(&vto.url).await;

    let (_, log) = c2.call("security_log", json!({"offset": 0})).await;
    assert_eq!(log["events"][0]["detail"], "Network Basic: HTTP Port");

    // A restart listens on the saved port, not on --http.
    vto.stop().await;
    let vto2 = Vto::start_in(&vto.data_dir.clone(), &[])
        .await
        .expect("restart");
    assert_eq!(vto2.url, new_url);
}

#[tokio::test]
async fn https_with_the_generated_certificate() {
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let mut s = page(&c).await["settings"].clone();
    let https_port = free_port();
    s["https"] = json!(true);
    s["https_port"] = json!(https_port);
    let (status, p) = save(&c, &s).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    let https_url = format!("https://127.0.0.1:{https_port}");
    assert_eq!(p["moved_to"], format!("{https_url}/network/basic"));
    let cert = &p["certificate"];
    assert_eq!(cert["kind"], "Generated");
    let names = cert["names"].to_string();
    assert!(
        names.contains("\"localhost\"") && names.contains("\"127.0.0.1\""),
        "{names}"
    );
    let pem = cert["pem"].as_str().unwrap().to_string();
    assert!(
        !pem.contains("PRIVATE"),
        "only the certificate leaves the device"
    );

    // A TLS client that trusts only this certificate gets the pages.
    let tls = c.moved_to(&https_url, &[&pem]);
    assert_eq!(tls.get("/").await.status(), StatusCode::OK);
    let anonymous = Client::with_roots(&https_url, None, &[&pem]);
    assert_eq!(anonymous.get("/login").await.status(), StatusCode::OK);
    assert_eq!(page(&tls).await["settings"]["https"], true);
    // One that does not trust it gets nothing.
    let untrusting = Client::with_roots(&https_url, None, &[]);
    assert!(untrusting
        .http
        .get(format!("{https_url}/login"))
        .send()
        .await
        .is_err());

    // Plain HTTP is sent to HTTPS, method kept.
    let res = vto.client().get("/login?x=1").await;
    assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        res.headers()["location"],
        format!("{https_url}/login?x=1").as_str()
    );

    // The login cookie over HTTPS is Secure (and still HttpOnly, SameSite).
    let res = tls
        .http
        .post(format!("{https_url}/api/login"))
        .header("origin", &https_url)
        .json(&json!({"user": "admin", "password": STRONG}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    for attr in ["Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(cookie.contains(attr), "{cookie}");
    }

    // IP Permissions apply to the HTTPS port at accept.
    let (status, b) = tls
        .call(
            "save_ip_permissions",
            json!({"settings": {"enabled": true, "mode": "BlackList",
                "white_list": [], "black_list": ["127.0.0.2"]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    let from_2 = Client::with_roots(&https_url, "127.0.0.2".parse().ok(), &[&pem]);
    assert!(from_2
        .http
        .get(format!("{https_url}/login"))
        .send()
        .await
        .is_err());
    assert_eq!(anonymous.get("/login").await.status(), StatusCode::OK);

    // HTTPS comes back after a restart, with the same certificate.
    vto.stop().await;
    let _vto2 = Vto::start_in(&vto.data_dir.clone(), &[])
        .await
        .expect("restart");
    let again = tls.moved_to(&https_url, &[&pem]);
    assert_eq!(page(&again).await["certificate"]["pem"], pem.as_str());
}

fn self_signed(names: &[&str]) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

#[tokio::test]
async fn an_uploaded_certificate_is_checked_then_served() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let mut s = page(&c).await["settings"].clone();
    let https_port = free_port();
    s["https"] = json!(true);
    s["https_port"] = json!(https_port);
    let (_, p) = save(&c, &s).await;
    let generated = p["certificate"]["pem"].as_str().unwrap().to_string();
    let https_url = format!("https://127.0.0.1:{https_port}");
    let (cert, key) = self_signed(&["127.0.0.1", "door.example"]);
    // From now on over HTTPS, trusting both certificates.
    let c = c.moved_to(&https_url, &[&generated, &cert]);

    let (_, other_key) = self_signed(&["127.0.0.1"]);
    let bad: &[(&str, &str, &str, &str)] = &[
        (&cert, &other_key, "private-key", "does not belong"),
        ("not a certificate", &key, "certificate", "No certificate"),
        (&cert, "not a key", "private-key", "Not a PEM private key"),
        (&key, &key, "certificate", "No certificate"),
    ];
    for (certificate, private_key, field, text) in bad {
        let (status, b) = c
            .call(
                "upload_certificate",
                json!({"upload": {"certificate": certificate, "private_key": private_key}}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["Invalid"]["field"], *field);
        assert!(b.to_string().contains(text), "{b}");
        assert_eq!(page(&c).await["certificate"]["pem"], generated.as_str());
    }
    let trusts_uploaded = Client::with_roots(&https_url, None, &[&cert]);
    assert!(trusts_uploaded
        .http
        .get(format!("{https_url}/login"))
        .send()
        .await
        .is_err());

    let (status, p) = c
        .call(
            "upload_certificate",
            json!({"upload": {"certificate": cert, "private_key": key}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["certificate"]["kind"], "Uploaded");
    assert_eq!(
        p["certificate"]["names"],
        json!(["127.0.0.1", "door.example"])
    );
    // Served at once, without a restart: the old certificate is gone.
    let res = trusts_uploaded
        .http
        .get(format!("{https_url}/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let trusts_generated = Client::with_roots(&https_url, None, &[&generated]);
    assert!(trusts_generated
        .http
        .get(format!("{https_url}/login"))
        .send()
        .await
        .is_err());

    // Create Certificate: a new self-signed one.
    let (status, p) = c.call("new_certificate", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["certificate"]["kind"], "Generated");
    let newest = p["certificate"]["pem"].as_str().unwrap().to_string();
    assert_ne!(newest, generated);
    let c = c.moved_to(&https_url, &[&newest]);

    // The key is in no export and no page.
    let (_, info) = c.call("export_device_info", json!({})).await;
    assert!(!info.to_string().contains("PRIVATE KEY"));
    assert!(!page(&c).await.to_string().contains("PRIVATE KEY"));
    let (_, log) = c.call("security_log", json!({"offset": 0})).await;
    assert_eq!(log["events"][0]["detail"], "Network Basic: Certificate");
}
