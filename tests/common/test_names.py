"""Resource names: operations and sessions share the id; checkpoint ids of studies."""

from __future__ import annotations

import pytest

from services.common.checkpoint_ids import latest_round, resumed_count
from services.common.names import operation_name, study_id_of
from services.runtime.errors import InvalidArgument


def test_operation_and_session_names_share_the_id():
    assert operation_name("abc-1") == "operations/abc-1"
    assert study_id_of("operations/abc-1") == study_id_of("sessions/abc-1") == "abc-1"


@pytest.mark.parametrize("name", ["", "operations/", "studies/abc", "operations/a/b", "operations/" + "x" * 64])
def test_malformed_operation_names_are_invalid(name):
    with pytest.raises(InvalidArgument) as raised:
        study_id_of(name)
    assert raised.value.violations[0][0] == "name"


def test_the_latest_round_and_the_resumptions_are_read_from_checkpoint_ids():
    ids = ["study_request", "agents_created", "round_1", "round_2", "resumed_1", "round_10", "round_x"]
    assert latest_round(ids) == 10
    assert latest_round(["study_request"]) == 0
    assert resumed_count(ids) == 1
