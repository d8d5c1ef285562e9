use lambda_runtime::{Error, service_fn};
use process_approval::handler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = aws_config::load_from_env().await;
    let publisher = hitl_lambda::SnsPublisher::from_env(&config)?;
    lambda_runtime::run(service_fn(|event| handler(&publisher, event))).await
}
