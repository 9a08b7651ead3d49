from tests.factories import act, make_case, make_user, status_of


def test_a_case_goes_from_submission_to_approval(app):
    customer = make_user(app)
    operator = make_user(app, "operator")
    protocol = make_case(app, customer)
    assert len(protocol) == 13
    assert act(app, protocol, "claim", operator) == "in_review"
    assert act(app, protocol, "approve", operator, valid_days=30) == "approved"
    assert status_of(app, protocol) == "approved"
