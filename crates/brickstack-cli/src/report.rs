//! How an error reaches the terminal: one `error:` line saying what failed and where, then a
//! `hint:` line when there is something to do about it.

use std::fmt::Display;

/// The lines the CLI prints on stderr for `error` with `hint`.
pub(crate) fn render(error: &dyn Display, hint: Option<&str>) -> String {
    match hint {
        Some(hint) => format!("error: {error}\n  hint: {hint}"),
        None => format!("error: {error}"),
    }
}

#[cfg(test)]
mod tests {
    //! Representative cloud errors, made by real SDK calls against a local server that answers
    //! as AWS does (or does not answer), classified by the AWS adapter and rendered as the CLI
    //! prints a failed operation: one line each, no SDK dump.

    use std::time::Duration;

    use brickstack_aws::{AwsClients, StaticEndpoint, classify, static_sdk_config_with_policy};
    use brickstack_databricks::{ApiError, ErrorDetail};
    use brickstack_exec::ExecError;
    use brickstack_provider::ProviderError;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A server on loopback answering every request with `status` and the XML `body`, or, with
    /// `status` 0, never answering.
    async fn aws_answering(status: u16, body: &'static str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0u8; 4096];
                    // The request's head and (small) body; the answer does not depend on them.
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    if status == 0 {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        return;
                    }
                    let answer = format!(
                        "HTTP/1.1 {status} Error\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nx-amzn-requestid: 6b9f0a1c-request\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });
        url
    }

    fn clients(url: &str, timeout: Option<Duration>) -> AwsClients {
        // No retries: each snapshot shows the first answer as it reaches the user.
        let config = static_sdk_config_with_policy(
            &StaticEndpoint {
                url: url.to_string(),
                region: "eu-west-1".into(),
                access_key_id: "AKIDEXAMPLE".into(),
                secret_access_key: "not-a-secret".into(),
                ca_bundle: None,
            },
            &brickstack_provider::RetryPolicy::none(),
        )
        .expect("no CA bundle to read");
        // Only `brickstack-aws` names the SDK's crates: the timeout is set through the values.
        let config = match timeout {
            Some(t) => {
                let timeouts = config
                    .timeout_config()
                    .expect("the static configuration sets timeouts")
                    .to_builder()
                    .operation_timeout(t)
                    .build();
                config.to_builder().timeout_config(timeouts).build()
            }
            None => config,
        };
        AwsClients::new(&config)
    }

    /// What the CLI prints for `error` failing `operation` of `address`.
    fn printed(address: &str, operation: &'static str, error: ProviderError) -> String {
        let failed = ExecError::Provider {
            address: address.into(),
            operation,
            error,
        };
        let text = super::render(&failed, failed.hint().as_deref());
        assert_eq!(
            text.lines().count(),
            1 + usize::from(failed.hint().is_some()),
            "{text}"
        );
        text
    }

    const EC2_INVALID: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>InvalidParameterValue</Code><Message>Value (10.0.0.0/33) for parameter cidrBlock is invalid.\n This is not a valid CIDR block.</Message></Error></Errors><RequestID>6b9f0a1c-request</RequestID></Response>";
    const IAM_DENIED: &str = "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::123456789012:role/bs-dev-cross-account because no identity-based policy allows the iam:CreateRole action</Message></Error><RequestId>6b9f0a1c-request</RequestId></ErrorResponse>";
    const EC2_THROTTLED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>6b9f0a1c-request</RequestID></Response>";

    #[tokio::test]
    async fn an_ec2_service_error_is_one_line_with_its_code_and_message() {
        let url = aws_answering(400, EC2_INVALID).await;
        let error = clients(&url, None)
            .ec2
            .create_vpc()
            .cidr_block("10.0.0.0/33")
            .send()
            .await
            .unwrap_err();
        insta::assert_snapshot!(printed(
            "aws_vpc.main",
            "create",
            classify("ec2:CreateVpc", &error)
        ));
    }

    #[tokio::test]
    async fn a_missing_permission_names_the_call_to_allow() {
        let url = aws_answering(403, IAM_DENIED).await;
        let error = clients(&url, None)
            .iam
            .create_role()
            .role_name("bs-dev-cross-account")
            .assume_role_policy_document("{}")
            .send()
            .await
            .unwrap_err();
        insta::assert_snapshot!(printed(
            "aws_iam_role.cross_account",
            "create",
            classify("iam:CreateRole", &error)
        ));
    }

    #[tokio::test]
    async fn a_refused_connection_says_so_not_dispatch_failure() {
        // A port that was just free: nothing listens there.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let error = clients(&url, None)
            .s3
            .head_bucket()
            .bucket("bs-dev-datalake")
            .send()
            .await
            .unwrap_err();
        insta::assert_snapshot!(printed(
            "aws_s3_bucket.datalake",
            "read",
            classify("s3:HeadBucket", &error)
        ));
    }

    #[tokio::test]
    async fn a_timeout_says_how_long_was_waited() {
        let url = aws_answering(0, "").await;
        let error = clients(&url, Some(Duration::from_millis(300)))
            .ec2
            .describe_vpcs()
            .send()
            .await
            .unwrap_err();
        insta::assert_snapshot!(printed(
            "aws_vpc.main",
            "read",
            classify("ec2:DescribeVpcs", &error)
        ));
    }

    #[tokio::test]
    async fn aws_throttling_that_outlasted_the_retries_says_what_to_do() {
        let url = aws_answering(503, EC2_THROTTLED).await;
        let error = clients(&url, None)
            .ec2
            .describe_vpcs()
            .send()
            .await
            .unwrap_err();
        insta::assert_snapshot!(printed(
            "aws_vpc.main",
            "read",
            classify("ec2:DescribeVpcs", &error)
        ));
    }

    fn databricks(detail: ErrorDetail) -> ProviderError {
        brickstack_databricks::Error {
            method: "POST".into(),
            path: "/api/2.0/accounts/0d26daa6-5e44-4c97-a497-ef015f91254a/workspaces".into(),
            detail,
        }
        .into()
    }

    #[test]
    fn a_databricks_api_error_is_one_line_with_its_code_and_request_id() {
        let error = databricks(ErrorDetail::Api(ApiError {
            status: 400,
            error_code: "INVALID_PARAMETER_VALUE".into(),
            message: "Credentials `bs-dev` do not allow the role to be assumed".into(),
            retry_after: None,
            request_id: Some("5e0f3b52-request".into()),
        }));
        insta::assert_snapshot!(printed("databricks_mws_workspaces.main", "create", error));
    }

    #[test]
    fn a_databricks_retry_budget_that_ran_out_says_so_and_what_to_do() {
        let error = databricks(ErrorDetail::RetriesExhausted {
            attempts: 7,
            elapsed_seconds: 300,
            last: Box::new(ErrorDetail::Api(ApiError {
                status: 429,
                error_code: "REQUEST_LIMIT_EXCEEDED".into(),
                message: "Too many requests".into(),
                retry_after: Some(Duration::from_secs(30)),
                request_id: None,
            })),
        });
        insta::assert_snapshot!(printed("databricks_mws_workspaces.main", "create", error));
    }
}
