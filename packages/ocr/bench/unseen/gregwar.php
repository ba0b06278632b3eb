<?php
// Renders COUNT Gregwar/Captcha images with the library's defaults: OUT/N.jpg and OUT/labels.tsv.
require '/usr/share/php/Gregwar/Captcha/autoload.php';
use Gregwar\Captcha\CaptchaBuilder;
[$_, $count, $seed, $out] = $argv;
mt_srand((int) $seed);
$labels = '';
for ($i = 0; $i < (int) $count; $i++) {
    $builder = new CaptchaBuilder();
    $builder->build();
    file_put_contents("$out/$i.jpg", $builder->get());
    $labels .= "$i.jpg\t" . $builder->getPhrase() . "\n";
}
file_put_contents("$out/labels.tsv", $labels);
