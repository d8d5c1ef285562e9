use lambda_runtime::{Error, service_fn};
use review_page::{SfnClient, handler, store_from_env};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_log::init();
    let config = aws_https::lambda_config()?;
    let sfn = SfnClient::new(&config);
    let store = store_from_env(&config);
    lambda_runtime::run(service_fn(|event| handler(&sfn, store.as_ref(), event))).await
}
