# A pythonfile that fails while it runs (bad-pythonfile-raises.rc).
import os

def get_pass(account):
    return 'x'

ACCOUNTS = {'work': 1}
DEFAULT = ACCOUNTS['home']
