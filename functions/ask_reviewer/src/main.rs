use ask_reviewer::{Ports, handler};
use lambda_runtime::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_log::init();
    let ports = Ports::from_env(&aws_https::lambda_config()?)?;
    lambda_runtime::run(service_fn(|event| handler(&ports, event))).await
}
