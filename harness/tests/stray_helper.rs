//! A binary whose main does not call `enter_if_requested` (this test
//! binary, with libtest's main) used as the container helper: opening a
//! container fails at once with a message that says what to do, and no
//! helper starts helpers of its own.

mod common;

use wrtest::container::Options;
use wrtest::Testbed;

#[test]
fn a_helper_that_never_became_one_is_reported_not_repeated() {
    let project = common::project();
    let image = project.image(common::IMAGE).unwrap();
    let options = Options {
        helper: Some(std::env::current_exe().unwrap()),
        ..Options::default()
    };
    let err = Testbed::start(project, image, &options).unwrap_err();
    let text = wrtest::error_chain(&err);
    assert!(
        text.contains("must call wrtest::container::enter_if_requested() first"),
        "{text}"
    );
    // No helper of this binary is left (other runs on the machine may have theirs).
    let own = format!(
        "{} __wrtest-container",
        std::env::current_exe().unwrap().display()
    );
    assert!(common::processes_with(&own).is_empty());
}
