"""The rule catalogue (spec §4). Importing this package registers every rule."""

from nianbao.rules import content, file, form, history, identity, narrative, tables  # noqa: F401  (registers)
from nianbao.rules.history import History
from nianbao.rules.registry import RULES, Context, Rule, finding, rule

__all__ = ["RULES", "Context", "History", "Rule", "finding", "rule"]
