import BNReproCLI
