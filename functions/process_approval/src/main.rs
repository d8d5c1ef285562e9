use lambda_runtime::{Error, service_fn};
use process_approval::{ApprovalAction, handler};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_log::init();
    let config = aws_https::lambda_config()?;
    let publisher = hitl_lambda::SnsPublisher::from_env(&config)?;
    let action = hitl_lambda::FailureDrill::from_env(ApprovalAction);
    lambda_runtime::run(service_fn(|event| handler(&action, &publisher, event))).await
}
