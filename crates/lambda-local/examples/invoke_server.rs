//! Serves the Lambda Invoke API for the given executables, to try the host by
//! hand (how local mode wires it, minus everything else):
//!
//! ```text
//! cargo run -p lambda-local --example invoke_server -- 9001 echo=target/debug/lambda-local-fixture
//! aws lambda invoke --endpoint-url http://127.0.0.1:9001 --function-name echo \
//!     --cli-binary-format raw-in-base64-out --payload '{"a":1}' out.json
//! ```

use std::time::Duration;

use lambda_local::{FunctionSpec, HostConfig, LambdaHost, OutputSink};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args
        .next()
        .ok_or("usage: invoke_server PORT NAME=EXECUTABLE...")?
        .parse()?;
    let mut config = HostConfig::new("us-east-1");
    config.endpoint_url = Some(format!("http://127.0.0.1:{port}"));
    config.output = OutputSink::stderr();
    let specs = args
        .map(|arg| {
            let (name, executable) = arg.split_once('=').ok_or("expected NAME=EXECUTABLE")?;
            let arn = format!(
                "arn:aws:lambda:{}:{}:function:{name}",
                config.region, config.account_id
            );
            let mut spec = FunctionSpec::new(name, arn, executable);
            spec.timeout = Duration::from_secs(3);
            Ok(spec)
        })
        .collect::<Result<Vec<_>, &str>>()?;
    let host = LambdaHost::start(specs, config)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let shutdown_host = host.clone();
    axum::serve(listener, host.router())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    shutdown_host.shutdown().await;
    Ok(())
}
