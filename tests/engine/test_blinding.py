"""Blinded options: each participant's own order, hidden names, answers mapped back."""

from collections import Counter

from services.engine.simulation.blinding import StimulusOption, option_order, options_text, unblind

OPTIONS = [
    StimulusOption(name="49 EUR", description="A solar kettle at 49 EUR."),
    StimulusOption(name="69 EUR", description="A solar kettle at 69 EUR."),
    StimulusOption(name="89 EUR", description="A solar kettle at 89 EUR."),
]


def test_each_participant_keeps_one_order_and_the_orders_spread_over_the_permutations():
    participants = [f"P{index}" for index in range(600)]
    orders = Counter(tuple(option_order(OPTIONS, 11, name)) for name in participants)
    assert option_order(OPTIONS, 11, "P1") == option_order(OPTIONS, 11, "P1")
    assert len(orders) == 6
    assert min(orders.values()) > 600 / 6 * 0.6
    assert [option_order(OPTIONS, seed, "P1") for seed in range(20)] != [option_order(OPTIONS, 0, "P1")] * 20


def test_a_blinded_list_hides_the_names_and_follows_the_participants_order():
    order = option_order(OPTIONS, 3, "Ana")
    text = options_text(OPTIONS, blind=True, seed=3, participant="Ana")
    assert "49 EUR:" not in text and "69 EUR:" not in text
    assert text.splitlines() == [
        "Options:",
        *(f"Option {number}: {OPTIONS[index].description}" for number, index in enumerate(order, start=1)),
    ]
    assert options_text(OPTIONS, blind=False, seed=3, participant="Ana").splitlines()[1] == (
        "- 49 EUR: A solar kettle at 49 EUR."
    )
    assert options_text([], blind=True, seed=3, participant="Ana") == ""


def test_an_answer_is_mapped_back_to_the_option_the_participant_saw():
    order = option_order(OPTIONS, 5, "Ben")
    first, second = OPTIONS[order[0]].name, OPTIONS[order[1]].name
    assert unblind("I pick option 1, not Option #2.", OPTIONS, 5, "Ben") == f"I pick {first}, not {second}."
    assert unblind("Option 9 does not exist.", OPTIONS, 5, "Ben") == "Option 9 does not exist."
    assert unblind("No choice here.", OPTIONS, 5, "Ben") == "No choice here."
