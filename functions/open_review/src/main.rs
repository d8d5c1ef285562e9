use hitl_lambda::policy::{DynamoReviewStore, SystemClock, policy_from_env};
use lambda_runtime::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = aws_config::load_from_env().await;
    let store = DynamoReviewStore::from_env(&config)?;
    // An invalid policy fails each execution (InvalidReviewPolicy), not the cold start.
    let policy = policy_from_env();
    let handler = |event| open_review::handler(&store, &SystemClock, &policy, event);
    lambda_runtime::run(service_fn(handler)).await
}
