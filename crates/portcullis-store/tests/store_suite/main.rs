//! The store suite: every test is written once, against `Arc<dyn Store>`, and runs on SQLite and on
//! PostgreSQL (`sqlite::<test>` and `postgres::<test>`), each time on a fresh database of its own.
//!
//! PostgreSQL is taken from `PORTCULLIS_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`).

// The test bodies are plain `async fn`s the generated `#[tokio::test]`s call, which clippy's
// `allow-unwrap-in-tests` does not see as tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod authorizations;
mod clients;
mod database;
mod devices;
mod fixtures;
mod grants;
mod keys_and_sessions;
mod scopes;
mod tokens;
mod users;

/// Generates one `#[tokio::test]` per database for each `module::test`, handing the test a fresh
/// `TestDatabase` that is removed afterwards, pass or fail.
macro_rules! on_both_databases {
    ($($module:ident :: $test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let database = portcullis_store::test_support::TestDatabase::sqlite().await;
                    crate::$module::$test(&database).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let database = portcullis_store::test_support::TestDatabase::postgres().await;
                    crate::$module::$test(&database).await;
                }
            )*
        }
    };
}

on_both_databases! {
    clients::created_client_is_found_with_every_field,
    clients::duplicate_client_id_is_a_conflict_naming_it,
    clients::unknown_client_is_none,
    clients::remove_client_reports_whether_it_existed,
    clients::removing_a_client_removes_its_authorizations_and_tokens,
    users::user_is_found_by_username_or_email_case_insensitively,
    users::duplicate_username_is_a_conflict_case_insensitively,
    users::duplicate_email_is_a_conflict_case_insensitively,
    users::duplicate_user_id_is_a_conflict,
    users::users_without_email_never_collide,
    users::a_user_name_wins_over_another_users_email,
    users::roles_are_added_idempotently_and_removed,
    users::adding_a_role_to_an_unknown_user_is_not_found,
    users::set_password_replaces_credentials_and_clears_lockout,
    users::set_password_of_an_unknown_user_is_not_found,
    users::failed_logins_lock_the_account_at_the_threshold,
    users::successful_login_clears_the_failure_count,
    users::concurrent_failed_logins_are_each_counted,
    users::removing_a_user_removes_their_sessions_roles_authorizations_and_tokens,
    scopes::scopes_round_trip_and_find_returns_only_existing_ones,
    scopes::duplicate_scope_name_is_a_conflict,
    scopes::finding_no_scope_names_finds_nothing,
    authorizations::permanent_authorizations_are_the_valid_permanent_ones_newest_first,
    authorizations::revoking_an_authorization_revokes_its_tokens,
    authorizations::authorization_for_an_unknown_client_is_not_found,
    authorizations::unknown_authorization_is_none_and_not_revocable,
    authorizations::revoking_a_subjects_authorizations_revokes_their_tokens_only,
    authorizations::tokens_of_an_authorization_are_listed_oldest_first,
    tokens::token_is_found_by_id_and_by_digest,
    tokens::duplicate_reference_digest_is_a_conflict,
    tokens::token_for_an_unknown_client_is_not_found,
    tokens::token_is_redeemed_only_once,
    tokens::of_fifty_concurrent_redemptions_exactly_one_wins,
    tokens::transition_moves_a_token_only_from_the_expected_status,
    tokens::revoke_token_reports_whether_it_was_still_unrevoked,
    tokens::revoke_by_authorization_counts_the_tokens_it_revoked,
    tokens::prune_removes_exactly_the_dead_tokens_authorizations_and_sessions,
    tokens::prune_with_a_zero_batch_size_still_finishes,
    grants::a_presented_token_is_found_with_its_user_roles_and_authorization,
    grants::a_presented_token_without_user_or_authorization_has_none,
    grants::recording_a_grant_spends_the_token_and_writes_every_row,
    grants::a_spent_token_makes_the_grant_write_nothing,
    grants::an_answer_again_is_written_only_while_the_successor_stays_valid,
    grants::a_rotation_records_its_successor_and_a_family_is_revoked_alone,
    grants::a_family_never_has_two_live_refresh_tokens,
    grants::a_failure_part_way_through_a_grant_leaves_nothing_behind,
    grants::a_grant_without_a_spent_token_writes_its_ad_hoc_consent_with_the_tokens,
    grants::of_fifty_concurrent_grant_writes_spending_one_code_exactly_one_wins,
    devices::device_codes_are_recorded_together_and_found_by_their_digests,
    devices::a_taken_user_code_is_a_conflict_and_leaves_nothing_behind,
    devices::device_poll_records_the_time_and_grows_the_interval_when_too_fast,
    devices::concurrent_device_polls_are_each_recorded_once,
    devices::approving_a_device_code_records_the_consent_and_uses_the_user_code,
    devices::approving_with_a_remembered_consent_ties_the_device_code_to_it,
    devices::an_expired_device_code_can_be_neither_approved_nor_denied,
    devices::denying_a_device_code_revokes_it_and_uses_the_user_code,
    devices::of_concurrent_answers_exactly_one_wins,
    devices::expired_device_codes_are_pruned_with_their_user_codes,
    keys_and_sessions::active_keys_are_listed_oldest_first_until_retired,
    keys_and_sessions::duplicate_kid_is_a_conflict,
    keys_and_sessions::missing_keys_are_added_once_per_algorithm,
    keys_and_sessions::instances_adding_keys_at_once_end_with_one_key_per_algorithm,
    keys_and_sessions::a_server_secret_is_written_once_and_then_only_read,
    keys_and_sessions::of_concurrent_first_writes_of_a_secret_one_wins_for_every_caller,
    keys_and_sessions::session_is_found_until_it_expires,
    keys_and_sessions::sessions_are_deleted_one_or_all_of_a_user,
    keys_and_sessions::session_for_an_unknown_user_is_not_found,
    keys_and_sessions::ping_answers,
    database::data_survives_reopening_the_database,
    database::migrating_again_changes_nothing,
    database::a_write_blocked_beyond_the_statement_timeout_is_unavailable,
}
