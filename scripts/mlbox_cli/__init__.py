"""Shared code of scripts/start_instance.py and scripts/delete_instance.py.

The scripts are thin: they ask what is missing, gather credentials and the notebook
password, and run the collection's playbooks (provision.yml, teardown.yml, disks.yml)
through ansible-runner with the repository root as the project directory.
"""
