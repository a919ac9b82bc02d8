# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
#
# The Mitogen branch below follows Mitogen's own mitogen_linear strategy
# (ansible_mitogen/plugins/strategy/mitogen_linear.py), which carries this notice:
#
# Copyright 2019, David Wilson
#
# Redistribution and use in source and binary forms, with or without
# modification, are permitted provided that the following conditions are met:
#
# 1. Redistributions of source code must retain the above copyright notice,
# this list of conditions and the following disclaimer.
#
# 2. Redistributions in binary form must reproduce the above copyright notice,
# this list of conditions and the following disclaimer in the documentation
# and/or other materials provided with the distribution.
#
# 3. Neither the name of the copyright holder nor the names of its contributors
# may be used to endorse or promote products derived from this software without
# specific prior written permission.
#
# THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
# AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
# IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE
# ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE
# LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR
# CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF
# SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS
# INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN
# CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE)
# ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE
# POSSIBILITY OF SUCH DAMAGE.
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
author: mlbox.workbench developers (!UNKNOWN)
"""

try:
    import ansible_mitogen.loaders
    import ansible_mitogen.strategy
except ImportError:  # pragma: no cover - depends on the controller's packages
    import ansible.plugins.strategy.linear as _plain

    StrategyModule = _plain.StrategyModule
else:
    _Linear = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)

    class StrategyModule(ansible_mitogen.strategy.StrategyMixin, _Linear):
        """Mitogen's mixin over the linear strategy (what mitogen_linear does)."""
