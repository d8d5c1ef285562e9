//! The idna_adapter pin (crates/aws-https/Cargo.toml): the url crate the SDK parses
//! endpoints with still reads every AWS and loopback host, and refuses a non-ASCII
//! host name instead of converting it — the price of leaving ICU4X's tables out of
//! the functions, and the sign that the pin is in force.

#[test]
fn aws_and_loopback_hosts_parse() {
    for endpoint in [
        "https://dynamodb.eu-west-1.amazonaws.com/",
        "https://states.us-east-1.amazonaws.com",
        "https://sns.cn-north-1.amazonaws.com.cn/",
        "http://127.0.0.1:4566/",
        "http://localhost:8083",
    ] {
        let parsed = url::Url::parse(endpoint).unwrap_or_else(|e| panic!("{endpoint}: {e}"));
        assert!(parsed.host_str().is_some(), "{endpoint}");
    }
    // Upper case is folded without Unicode data.
    let parsed = url::Url::parse("https://DynamoDB.EU-WEST-1.amazonaws.com/").expect("parses");
    assert_eq!(parsed.host_str(), Some("dynamodb.eu-west-1.amazonaws.com"));
}

#[test]
fn a_non_ascii_host_is_refused_while_the_pin_holds() {
    assert!(
        url::Url::parse("https://bücher.example/").is_err(),
        "idna converted a Unicode host: idna_adapter is no longer the ASCII-only 1.0 \
         (Cargo.lock), so ICU4X is back in every DynamoDB function"
    );
}
