use hitl_lambda::policy::{
    DynamoReviewStore, RandomSecrets, SnsReviewerMailer, SystemClock, message_settings_from_env,
};
use lambda_runtime::{Error, service_fn};
use review_tick::{Ports, handler};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = aws_config::load_from_env().await;
    let ports = Ports {
        store: DynamoReviewStore::from_env(&config)?,
        mailer: SnsReviewerMailer::from_env(&config)?,
        clock: SystemClock,
        secrets: RandomSecrets,
        settings: message_settings_from_env()?,
    };
    lambda_runtime::run(service_fn(|event| handler(&ports, event))).await
}
