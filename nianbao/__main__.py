from nianbao.cli import app

app(prog_name="nianbao")
