# Copyright: mlbox.workbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The linear strategy, run through Mitogen when it is installed.

Mitogen keeps one Python interpreter per host and sends modules to it, instead of copying and
starting a module per task; on the workbench's ~150 tasks that halves a no-op run. Without
Mitogen (a controller that did not install requirements.txt) this is plain ``linear``, so
ansible.cfg can name it unconditionally. ``ANSIBLE_STRATEGY=linear`` turns it off.
"""

from __future__ import annotations

DOCUMENTATION = """
name: mlbox_linear
short_description: linear, accelerated by Mitogen when it is installed
description:
  - Runs tasks like the built-in C(linear) strategy.
  - When the C(mitogen) package is importable, connections go through Mitogen's persistent
    interpreters (its C(mitogen_linear) strategy); otherwise this is C(linear) unchanged.
author: mlbox.workbench contributors
"""

try:
    import ansible_mitogen.loaders
    import ansible_mitogen.strategy
except ImportError:  # pragma: no cover - depends on the controller's packages
    from ansible.plugins.strategy.linear import StrategyModule
else:
    _Linear = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)

    class StrategyModule(ansible_mitogen.strategy.StrategyMixin, _Linear):
        """Mitogen's mixin over the linear strategy (what mitogen_linear does)."""
