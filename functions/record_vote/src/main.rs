use hitl_policy_aws::{DynamoReviewStore, SystemClock};
use lambda_runtime::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_log::init();
    let config = aws_https::lambda_config()?;
    let store = DynamoReviewStore::from_env(&config)?;
    lambda_runtime::run(service_fn(|event| {
        record_vote::handler(&store, &SystemClock, event)
    }))
    .await
}
