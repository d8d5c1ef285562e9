use hitl_domain::policy_flow::check_review_subscriptions;
use hitl_policy_aws::{DynamoReviewStore, SnsReviewerMailer, SystemClock, policy_from_env};
use lambda_runtime::{Error, service_fn};
use open_review::{ColdStart, handler};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_log::init();
    let config = aws_https::lambda_config()?;
    let store = DynamoReviewStore::from_env(&config)?;
    let topic = SnsReviewerMailer::from_env(&config)?;
    let checked = ColdStart {
        policy: policy_from_env(),
        topic: check_review_subscriptions(&topic.subscriptions().await?),
    };
    lambda_runtime::run(service_fn(|event| {
        handler(&store, &SystemClock, &checked, event)
    }))
    .await
}
