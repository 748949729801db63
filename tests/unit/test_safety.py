"""The crisis check: what fires, what does not, and the reply it gives."""

from __future__ import annotations

import json

import pytest

from core.safety import RESOURCES_PATH, SafetyCheck, find_crisis
from core.settings import SafetySettings


@pytest.mark.parametrize("text", [
    "I want to kill myself",
    "sometimes I think about ending my life",
    "I've been having suicidal thoughts again",
    "I'm not okay, I want to die",
    "everyone would be better off without me",
    "I don't want to live anymore",
    "I keep cutting myself when it gets bad",
])
def test_crisis_language_fires(text):
    assert find_crisis(text)


@pytest.mark.parametrize("text", [
    "I'm not going to kill myself, don't worry",
    "I would never hurt myself",
    "I'm killing it at work this week",
    "I'm dying to see that film",
    "this traffic is killing me",
    "I'm not suicidal, just exhausted",
    "",
])
def test_ordinary_language_does_not_fire(text):
    assert find_crisis(text) is None


def test_safe_reply_points_to_the_region_helplines():
    uk = SafetyCheck(SafetySettings(region="uk"))
    assert uk.check_transcript("I want to end my life").triggered
    reply = uk.safe_reply()
    assert "Samaritans" in reply and "999" in reply
    assert "116 123" in uk.resources_text()
    us = SafetyCheck(SafetySettings(region="US"))
    assert "nine eight eight" in us.safe_reply() and "988" in us.resources_text()


def test_unknown_region_falls_back_to_international():
    check = SafetyCheck(SafetySettings(region="atlantis"))
    assert check.region == "international"
    assert "findahelpline.com" in check.resources_text()


def test_the_safe_reply_itself_does_not_trigger_the_reply_check():
    check = SafetyCheck(SafetySettings(region="us"))
    assert not check.check_reply(check.safe_reply()).triggered
    assert check.check_reply("Maybe you should just kill yourself").triggered
    assert not check.check_reply("Please don't hurt yourself tonight, stay with me.").triggered
    assert not check.check_transcript("you should kill yourself, he said").triggered  # second person: reply-only


def test_every_region_has_resources_with_contacts():
    data = json.loads(RESOURCES_PATH.read_text())
    assert "international" in data["regions"]
    for key, region in data["regions"].items():
        assert region["resources"], key
        assert all(r["contact"] and r["spoken"] for r in region["resources"]), key
